/**
 * Hand-written SVG charts: the equity curve and the latency histograms. Two small chart kinds
 * did not justify a library: these draw in a few dozen lines, need no inline style (the CSP
 * forbids it), and every chart carries a text summary for screen readers (role="img" with a
 * label) and a caption on the page.
 */
import { el, fmt, svg } from "./dom.mjs";

const PAD = { left: 64, right: 12, top: 10, bottom: 24 };

/** Equity over time; a dashed line marks the start-of-day equity when given. */
export function lineChart(points, { label, baseline, width = 720, height = 200 }) {
  const figure = el("figure", { class: "chart" });
  if (points.length < 2) {
    figure.append(
      el("figcaption", {}, `${label}: not enough readings yet (one per heartbeat interval)`),
    );
    return figure;
  }
  const times = points.map(([time]) => time);
  const values = points.map(([, value]) => value);
  if (typeof baseline === "number") values.push(baseline);
  let low = Math.min(...values);
  let high = Math.max(...values);
  if (high - low < 1e-9) {
    low -= 1;
    high += 1;
  }
  const t0 = times[0];
  const t1 = times[times.length - 1];
  const x = (time) =>
    PAD.left + ((time - t0) / Math.max(1, t1 - t0)) * (width - PAD.left - PAD.right);
  const y = (value) =>
    PAD.top + (1 - (value - low) / (high - low)) * (height - PAD.top - PAD.bottom);
  const path = points
    .map(([time, value], i) => `${i === 0 ? "M" : "L"}${x(time).toFixed(1)},${y(value).toFixed(1)}`)
    .join("");
  const last = points[points.length - 1][1];
  const summary = `${label}: from ${fmt.money(points[0][1])} to ${fmt.money(last)}, low ${fmt.money(Math.min(...points.map(([, v]) => v)))}, high ${fmt.money(Math.max(...points.map(([, v]) => v)))}, ${fmt.dateTime(t0)} to ${fmt.dateTime(t1)}`;
  figure.append(
    ...framed(
      { width, height, summary, top: fmt.money(high), bottom: fmt.money(low) },
      svg("line", {
        class: "axis",
        x1: PAD.left,
        x2: PAD.left,
        y1: PAD.top,
        y2: height - PAD.bottom,
      }),
      svg("text", { class: "label", x: PAD.left, y: height - 6 }, fmt.dateTime(t0)),
      svg(
        "text",
        { class: "label", x: width - PAD.right, y: height - 6, "text-anchor": "end" },
        fmt.dateTime(t1),
      ),
      typeof baseline === "number"
        ? svg("line", {
            class: "baseline",
            x1: PAD.left,
            x2: width - PAD.right,
            y1: y(baseline),
            y2: y(baseline),
          })
        : undefined,
      svg("path", { class: "curve", d: path }),
    ),
  );
  return figure;
}

/**
 * A latency histogram: one bar per bucket from the first bucket with a count to the last, plus
 * one for what lies above the last bound. `data` is {counts, above, count, mean_ms}.
 */
export function histogram(boundsMs, data, { label, width = 360, height = 150 }) {
  const figure = el("figure", { class: "chart" });
  if (data.count === 0) {
    figure.append(el("figcaption", {}, `${label}: none yet`));
    return figure;
  }
  const bars = data.counts.map((count, i) => ({ count, label: `≤${short(boundsMs[i])}` }));
  bars.push({ count: data.above, label: `>${short(boundsMs[boundsMs.length - 1])}`, over: true });
  let first = bars.findIndex((bar) => bar.count > 0);
  let end = bars.length - 1;
  while (end > first && bars[end].count === 0) end--;
  first = Math.max(0, Math.min(first, end - 3));
  const shown = bars.slice(first, end + 1);
  const top = Math.max(...shown.map((bar) => bar.count));
  const slot = (width - PAD.left - PAD.right) / shown.length;
  const plotHeight = height - PAD.top - PAD.bottom;
  const summary = `${label}: ${data.count} measured, mean ${fmt.ms(data.mean_ms)}; ${shown
    .filter((bar) => bar.count > 0)
    .map((bar) => `${bar.count} ${bar.label}`)
    .join(", ")}`;
  figure.append(
    ...framed(
      { width, height, summary, top: String(top), bottom: "0" },
      ...shown.flatMap((bar, i) => {
        const barHeight = (bar.count / top) * plotHeight;
        const x = PAD.left + i * slot + 2;
        return [
          svg(
            "rect",
            {
              class: bar.over ? "bar over" : "bar",
              x,
              y: PAD.top + plotHeight - barHeight,
              width: Math.max(1, slot - 4),
              height: barHeight,
            },
            svg("title", {}, `${bar.count} ${bar.label}`),
          ),
          i % Math.ceil(shown.length / 5) === 0
            ? svg(
                "text",
                { class: "label", x: x + slot / 2, y: height - 8, "text-anchor": "middle" },
                bar.label,
              )
            : undefined,
        ];
      }),
    ),
  );
  return figure;
}

/**
 * A chart's svg (described by `summary` for screen readers) with its x axis and the labels of
 * the top and bottom of its scale, then `children`; and the same summary as a caption.
 */
function framed({ width, height, summary, top, bottom }, ...children) {
  const scale = (y, text) =>
    svg("text", { class: "label", x: PAD.left - 6, y, "text-anchor": "end" }, text);
  return [
    svg(
      "svg",
      { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": summary },
      svg("line", {
        class: "axis",
        x1: PAD.left,
        x2: width - PAD.right,
        y1: height - PAD.bottom,
        y2: height - PAD.bottom,
      }),
      scale(PAD.top + 10, top),
      scale(height - PAD.bottom, bottom),
      ...children,
    ),
    el("figcaption", {}, summary),
  ];
}

/** A bucket bound in few characters: 50µs, 2.5ms, 1s. */
function short(ms) {
  if (ms < 1) return `${Math.round(ms * 1000)}µs`;
  if (ms < 1000) return `${ms}ms`;
  return `${ms / 1000}s`;
}
