/*
 * What a page shows while it has nothing to show: skeletons while loading,
 * an empty state, an error with a retry.
 */
import type { ComponentChildren } from 'preact';
import { ApiError } from '../api';
import { Icon } from './Icon';

export function Skeleton({ lines = 3, class: cls }: { lines?: number; class?: string }) {
  return (
    <div class={`skeleton${cls ? ` ${cls}` : ''}`} aria-hidden="true">
      {Array.from({ length: lines }, (_, i) => (
        <div key={i} class={`skeleton__line skeleton__line--${(i % 3) + 1}`} />
      ))}
    </div>
  );
}

/* A live "Loading…" for screen readers plus visual skeletons. */
export function Loading({ label = 'Loading…', children }: { label?: string; children?: ComponentChildren }) {
  return (
    <div class="loading" aria-busy="true">
      <p class="sr-only" role="status">
        {label}
      </p>
      {children ?? <Skeleton />}
    </div>
  );
}

export function EmptyState({
  title,
  children,
  action,
}: {
  title: string;
  children?: ComponentChildren;
  action?: ComponentChildren;
}) {
  return (
    <div class="state state--empty" data-testid="empty-state">
      <Icon name="search" class="state__icon" />
      <h2 class="state__title">{title}</h2>
      {children && <div class="state__body">{children}</div>}
      {action && <div class="state__action">{action}</div>}
    </div>
  );
}

export function errorText(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error && error.message) return error.message;
  return 'Something went wrong.';
}

export function ErrorState({
  error,
  title = 'Could not load this',
  onRetry,
}: {
  error: unknown;
  title?: string;
  onRetry?: () => void;
}) {
  const status = error instanceof ApiError ? error.status : 0;
  const heading = status === 403 ? 'Not allowed' : status === 404 ? 'Not found' : title;
  return (
    <div class="state state--error" role="alert" data-testid="error-state">
      <Icon name="alert" class="state__icon" />
      <h2 class="state__title">{heading}</h2>
      <p class="state__body">{errorText(error)}</p>
      {onRetry && status !== 403 && status !== 404 && (
        <div class="state__action">
          <button type="button" class="btn" onClick={onRetry}>
            <Icon name="refresh" />
            Try again
          </button>
        </div>
      )}
    </div>
  );
}

/* An inline error line for forms and actions. */
export function InlineError({ error, testId }: { error: unknown; testId?: string }) {
  if (!error) return null;
  return (
    <p class="inline-error" role="alert" data-testid={testId}>
      <Icon name="alert" />
      <span>{errorText(error)}</span>
    </p>
  );
}
