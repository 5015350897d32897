/*
 * A status as icon + text, never colour alone.  One table maps every status
 * the API knows (gateways, catalog entries, deployments, keys) to a tone and
 * an icon, so the same word looks the same everywhere.
 */
import { titleCase } from '../format';
import { Icon, type IconName } from './Icon';

type Tone = 'ok' | 'bad' | 'warn' | 'info' | 'neutral';

const LOOK: Record<string, [Tone, IconName, string?]> = {
  online: ['ok', 'check-circle'],
  offline: ['bad', 'x-circle'],
  degraded: ['warn', 'alert'],
  maintenance: ['info', 'wrench'],
  published: ['ok', 'check-circle'],
  draft: ['neutral', 'file'],
  deprecated: ['warn', 'alert'],
  synced: ['ok', 'check-circle'],
  pending: ['neutral', 'clock'],
  syncing: ['info', 'refresh'],
  drifted: ['warn', 'alert'],
  error: ['bad', 'x-circle'],
  active: ['ok', 'check-circle'],
  revoked: ['bad', 'x-circle'],
  expired: ['warn', 'clock'],
  rejected: ['bad', 'x-circle'],
  cancelled: ['neutral', 'circle'],
  public: ['neutral', 'eye'],
  internal: ['info', 'lock'],
};

export function StatusBadge({ status, label, testId }: { status: string; label?: string; testId?: string }) {
  const [tone, icon] = LOOK[status] ?? ['neutral', 'circle'];
  return (
    <span class={`badge badge--${tone}`} data-status={status}>
      <Icon name={icon} />
      <span data-testid={testId}>{label ?? titleCase(status)}</span>
    </span>
  );
}

/* A plain label (capability, tag, category). */
export function Chip({ children, testId }: { children: string; testId?: string }) {
  return (
    <span class="chip" data-testid={testId}>
      {children}
    </span>
  );
}
