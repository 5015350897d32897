/*
 * Previous/next paging with "21–40 of 57".  Renders nothing when everything
 * fits on one page.
 */
import { formatNumber } from '../format';
import { Icon } from './Icon';

export function Pagination({
  page,
  pageSize,
  total,
  onPage,
  label = 'Pagination',
}: {
  page: number;
  pageSize: number;
  total: number;
  onPage: (page: number) => void;
  label?: string;
}) {
  const pages = Math.max(1, Math.ceil(total / Math.max(1, pageSize)));
  if (total <= pageSize && page <= 1) return null;
  const first = total === 0 ? 0 : Math.min(total, (page - 1) * pageSize + 1);
  const last = Math.min(total, page * pageSize);
  return (
    <nav class="pagination" aria-label={label} data-testid="pagination">
      <button
        type="button"
        class="btn"
        disabled={page <= 1}
        onClick={() => onPage(Math.min(page - 1, pages))}
        data-testid="pagination-prev"
      >
        <Icon name="arrow-left" />
        Previous
      </button>
      <span class="pagination__info" data-testid="pagination-info">
        {first > last ? `Page ${page} of ${pages}` : `${formatNumber(first)}–${formatNumber(last)} of ${formatNumber(total)}`}
      </span>
      <button
        type="button"
        class="btn"
        disabled={page >= pages}
        onClick={() => onPage(page + 1)}
        data-testid="pagination-next"
      >
        Next
        <Icon name="arrow-left" class="icon--flip" />
      </button>
    </nav>
  );
}
