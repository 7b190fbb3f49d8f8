import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

/**
 * A time series chart on uPlot (about 50 KB, canvas, fast on thousands of points). `x` is epoch seconds. The
 * chart has a text alternative (its summary) for screen readers, since a canvas says nothing.
 */
export interface Series {
  label: string;
  values: readonly (number | null)[];
  color: string;
  /** Drawn as steps (a level that holds until the next change) rather than lines. */
  stepped?: boolean;
  dash?: number[];
}

export const TimeChart = ({ x, series, summary, height = 220 }: { x: readonly number[]; series: readonly Series[]; summary: string; height?: number }) => {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const element = host.current;
    if (!element || x.length === 0) return;
    const width = Math.max(280, element.clientWidth);
    const plot = new uPlot(
      {
        width,
        height,
        series: [
          {},
          ...series.map((s) => ({
            label: s.label,
            stroke: s.color,
            width: 2,
            ...(s.dash ? { dash: s.dash } : {}),
            ...(s.stepped ? { paths: uPlot.paths.stepped?.({ align: 1 }) } : {}),
          })),
        ],
        axes: [{}, { size: 60 }],
        legend: { live: false },
      },
      [x as number[], ...series.map((s) => s.values as (number | null)[])],
      element,
    );
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(280, element.clientWidth), height }));
    resize.observe(element);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [x, series, height]);
  return (
    <figure class="chart">
      <div ref={host} role="img" aria-label={summary} />
      <figcaption class="visually-hidden">{summary}</figcaption>
    </figure>
  );
};
