import { Link } from '../router';
import { useTitle } from './Layout';

export function NotFound({ home }: { home: string }) {
  useTitle('Not found', home.includes('console') ? 'Console' : 'Portal');
  return (
    <div class="state">
      <h1 class="page-title">Page not found</h1>
      <p>There is nothing at this address.</p>
      <p>
        <Link href={home}>Go to the start page</Link>
      </p>
    </div>
  );
}
