import type { ComponentChildren, JSX } from 'preact';
import { useCallback, useEffect, useId, useRef, useState } from 'preact/hooks';
import { ApiProblem } from '../forms';
import { onLinkClick } from '../router';

/** A promise's state for a page: loading, its data, or the problem, with a reload. */
export interface Loaded<T> {
  data: T | undefined;
  problem: ApiProblem | undefined;
  loading: boolean;
  reload: () => void;
}

export const useLoad = <T,>(load: () => Promise<T>, deps: readonly unknown[]): Loaded<T> => {
  const [state, setState] = useState<{ data: T | undefined; problem: ApiProblem | undefined; loading: boolean }>({ data: undefined, problem: undefined, loading: true });
  const [generation, setGeneration] = useState(0);
  useEffect(() => {
    let current = true;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => current && setState({ data, problem: undefined, loading: false }),
      (error: unknown) => current && setState({ data: undefined, problem: asProblem(error), loading: false }),
    );
    return () => {
      current = false;
    };
    // The caller names what the load depends on (deps), as with useEffect itself.
  }, [...deps, generation]);
  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  return { ...state, reload };
};

export const asProblem = (error: unknown): ApiProblem =>
  error instanceof ApiProblem ? error : new ApiProblem(0, 'CLIENT', error instanceof Error ? error.message : 'Something went wrong in this page.');

export const Link = ({ href, children, ...rest }: { href: string; children: ComponentChildren } & JSX.HTMLAttributes<HTMLAnchorElement>) => (
  <a href={href} onClick={onLinkClick} {...rest}>
    {children}
  </a>
);

/** An API problem in words: never a stack, never "undefined". */
export const ProblemBanner = ({ problem, extra = [] }: { problem: ApiProblem | undefined; extra?: readonly string[] }) =>
  problem ? (
    <div class="problem" role="alert">
      <strong>{problem.status === 403 ? 'Not allowed. ' : problem.status === 409 ? 'Conflict. ' : ''}</strong>
      {problem.message}
      {extra.length > 0 && (
        <ul>
          {extra.map((line) => (
            <li key={line}>{line}</li>
          ))}
        </ul>
      )}
    </div>
  ) : null;

/** What a page shows while its data loads, when it failed, and when there is none. */
export const Loading = ({ what }: { what: string }) => (
  <p class="muted" role="status" aria-live="polite">
    Loading {what}…
  </p>
);

export const Empty = ({ children }: { children: ComponentChildren }) => <p class="empty">{children}</p>;

export const LoadState = <T,>({ loaded, what, children }: { loaded: Loaded<T>; what: string; children: (data: T) => ComponentChildren }) => {
  if (loaded.problem) return <ProblemBanner problem={loaded.problem} />;
  if (loaded.data === undefined) return <Loading what={what} />;
  return <>{children(loaded.data)}</>;
};

export const Page = ({ title, actions, children }: { title: string; actions?: ComponentChildren; children: ComponentChildren }) => {
  useEffect(() => {
    document.title = `${title} · Stockroom`;
  }, [title]);
  return (
    <section class="page" aria-labelledby="page-title">
      <header class="page-head">
        <h1 id="page-title">{title}</h1>
        {actions && <div class="page-actions">{actions}</div>}
      </header>
      {children}
    </section>
  );
};

/** A labelled input with its error beside it (aria-describedby), as every form here shows one. */
export const Field = ({
  label,
  error,
  hint,
  children,
}: {
  label: string;
  error?: string | undefined;
  hint?: string;
  children: (props: { id: string; 'aria-invalid': boolean; 'aria-describedby'?: string }) => ComponentChildren;
}) => {
  const id = useId();
  const described = [error ? `${id}-error` : undefined, hint ? `${id}-hint` : undefined].filter(Boolean).join(' ');
  return (
    <div class={`field${error ? ' has-error' : ''}`}>
      <label for={id}>{label}</label>
      {children({ id, 'aria-invalid': Boolean(error), ...(described ? { 'aria-describedby': described } : {}) })}
      {hint && (
        <small id={`${id}-hint`} class="hint">
          {hint}
        </small>
      )}
      {error && (
        <small id={`${id}-error`} class="field-error" role="alert">
          {error}
        </small>
      )}
    </div>
  );
};

/** A modal dialog on the native <dialog> element: focus moves in, Escape closes, focus returns. */
export const Dialog = ({ title, onClose, children }: { title: string; onClose: () => void; children: ComponentChildren }) => {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const dialog = ref.current;
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : undefined;
    dialog?.showModal();
    return () => {
      dialog?.close();
      opener?.focus();
    };
  }, []);
  return (
    <dialog ref={ref} aria-labelledby={titleId} onCancel={(event) => { event.preventDefault(); onClose(); }}>
      <div class="dialog-head">
        <h2 id={titleId}>{title}</h2>
        <button type="button" class="icon" aria-label="Close" onClick={onClose}>
          ×
        </button>
      </div>
      {children}
    </dialog>
  );
};

/** A dialog form's buttons: Cancel closes, the submit button says what it does (and waits while it does). */
export const DialogActions = ({ onClose, submit, busy = false }: { onClose: () => void; submit: string; busy?: boolean }) => (
  <div class="dialog-actions">
    <button type="button" onClick={onClose}>Cancel</button>
    <button type="submit" class="primary" disabled={busy}>{busy ? 'Saving…' : submit}</button>
  </div>
);

/**
 * A button's action on a page: its problem (shown by the page's banner) or, done, what to reload. One submit at a
 * time: a second click while the first runs is ignored.
 */
export const useAction = () => {
  const [problem, setProblem] = useState<ApiProblem | undefined>();
  const running = useRef(false);
  const run = async (action: () => Promise<void>): Promise<void> => {
    if (running.current) return;
    running.current = true;
    try {
      await action();
      setProblem(undefined);
    } catch (error) {
      setProblem(asProblem(error));
    } finally {
      running.current = false;
    }
  };
  return { problem, run };
};

/** A simple data table: a caption for screen readers, header cells with scope, numbers right-aligned by class. */
export interface Column<T> {
  label: string;
  numeric?: boolean;
  cell: (row: T) => ComponentChildren;
}

export const Table = <T,>({ caption, columns, rows, rowKey, empty }: { caption: string; columns: readonly Column<T>[]; rows: readonly T[]; rowKey: (row: T) => string; empty: string }) =>
  rows.length === 0 ? (
    <Empty>{empty}</Empty>
  ) : (
    // A wide table scrolls sideways on a narrow screen: the scroll box is focusable so the keyboard can scroll it too.
    <div class="table-wrap" tabIndex={0} role="region" aria-label={caption}>
      <table>
        <caption class="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            {columns.map((column) => (
              <th key={column.label} scope="col" class={column.numeric ? 'num' : undefined}>
                {column.label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={rowKey(row)}>
              {columns.map((column) => (
                <td key={column.label} class={column.numeric ? 'num' : undefined}>
                  {column.cell(row)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );

/** Buttons to move through a cursor-paged list: the cursors seen so far make "Previous" work. */
export const usePager = () => {
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const cursor = cursors.at(-1);
  return {
    cursor,
    page: cursors.length,
    next: (nextCursor: string) => setCursors((all) => [...all, nextCursor]),
    previous: () => setCursors((all) => (all.length > 1 ? all.slice(0, -1) : all)),
    reset: () => setCursors([undefined]),
  };
};

export const Pager = ({ pager, nextCursor }: { pager: ReturnType<typeof usePager>; nextCursor: string | null | undefined }) => (
  <nav class="pager" aria-label="Pages">
    <button type="button" disabled={pager.page <= 1} onClick={pager.previous}>
      Previous
    </button>
    <span>Page {pager.page}</span>
    <button type="button" disabled={!nextCursor} onClick={() => nextCursor && pager.next(nextCursor)}>
      Next
    </button>
  </nav>
);
