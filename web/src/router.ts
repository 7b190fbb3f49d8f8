import { signal } from '@preact/signals';

/**
 * Paths, not fragments (the fragment carries the dev token): the History API, and the servers answer index.html
 * for any path that is not a file or the API (bin/local/web.ts locally, CloudFront's error response in AWS).
 */
export const currentPath = signal(window.location.pathname + window.location.search);

window.addEventListener('popstate', () => {
  currentPath.value = window.location.pathname + window.location.search;
});

export const navigate = (to: string): void => {
  if (to === currentPath.value) return;
  window.history.pushState(null, '', to);
  currentPath.value = to;
  window.scrollTo(0, 0);
};

/** A link's click as navigation inside the app (a modified click still opens a tab). */
export const onLinkClick = (event: MouseEvent): void => {
  const anchor = (event.currentTarget as HTMLAnchorElement | null) ?? undefined;
  if (!anchor || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  event.preventDefault();
  navigate(anchor.getAttribute('href') ?? '/');
};

/** The path's segments against a pattern like `/skus/:sku_id`: the parameters, or undefined if it does not match. */
export const matchPath = (pattern: string, path: string): Record<string, string> | undefined => {
  const [bare = ''] = path.split('?');
  const want = pattern.split('/').filter(Boolean);
  const have = bare.split('/').filter(Boolean);
  if (want.length !== have.length) return undefined;
  const params: Record<string, string> = {};
  for (const [i, part] of want.entries()) {
    const value = have[i] ?? '';
    if (part.startsWith(':')) params[part.slice(1)] = decodeURIComponent(value);
    else if (part !== value) return undefined;
  }
  return params;
};
