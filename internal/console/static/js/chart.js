// The expiry chart: certificates expiring per week, as an SVG bar chart
// built element by element (no library, no markup strings).

import { s, fmtDay, DAY } from './dom.js';

export const WEEKS = 26; // about six months
const WEEK = 7 * DAY;

// expiryBuckets counts, for each of the next WEEKS weeks from now, the
// certificates whose notAfter (AfterTime, Unix ms) falls in it. Week i is
// [now + i weeks, now + i+1 weeks). It also counts those already past
// notAfter (expired) and those beyond the last week (later).
export function expiryBuckets(items, now = Date.now()) {
  const counts = new Array(WEEKS).fill(0);
  let expired = 0;
  let later = 0;
  for (const it of items) {
    const t = Number(it.AfterTime);
    if (!Number.isFinite(t)) {
      continue;
    }
    if (t < now) {
      expired++;
      continue;
    }
    const w = Math.floor((t - now) / WEEK);
    if (w < WEEKS) {
      counts[w]++;
    } else {
      later++;
    }
  }
  return { counts, expired, later, start: now };
}

// niceMax rounds a maximum up to 1, 2, 5 or 10 times a power of ten.
function niceMax(n) {
  if (n <= 4) {
    return Math.max(n, 1);
  }
  const p = 10 ** Math.floor(Math.log10(n));
  for (const m of [1, 2, 5, 10]) {
    if (m * p >= n) {
      return m * p;
    }
  }
  return 10 * p;
}

// expiryChart draws buckets (from expiryBuckets) as bars, one per week.
// Each bar carries data-week and data-count, and a <title> tooltip.
export function expiryChart(buckets) {
  const W = 860, H = 260, left = 44, right = 12, top = 14, bottom = 42;
  const plotW = W - left - right, plotH = H - top - bottom;
  const max = niceMax(Math.max(...buckets.counts, 0));
  const svg = s('svg', {
    viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-labelledby': 'chart-title',
  });
  svg.append(s('title', { id: 'chart-title' }, 'Certificates expiring per week over the next six months'));

  const ticks = max <= 4 ? max : 4;
  for (let i = 0; i <= ticks; i++) {
    const v = Math.round(max * i / ticks);
    const y = top + plotH - plotH * (v / max);
    svg.append(s('line', { x1: left, x2: W - right, y1: y, y2: y, class: i === 0 ? 'axis' : 'grid' }));
    svg.append(s('text', { x: left - 8, y: y + 4, class: 'tick', 'text-anchor': 'end' }, String(v)));
  }

  const slot = plotW / WEEKS;
  const barW = Math.max(4, slot * 0.7);
  buckets.counts.forEach((n, i) => {
    const x = left + i * slot + (slot - barW) / 2;
    const bh = plotH * (n / max);
    const from = buckets.start + i * WEEK;
    const rect = s('rect', {
      x: x.toFixed(1), y: (top + plotH - bh).toFixed(1), width: barW.toFixed(1), height: bh.toFixed(1),
      class: n > 0 ? 'bar' : 'bar empty', 'data-week': String(i), 'data-count': String(n), rx: 2,
    });
    rect.append(s('title', null, `Week of ${fmtDay(from)}: ${n} certificate${n === 1 ? '' : 's'} expire${n === 1 ? 's' : ''}`));
    svg.append(rect);
    if (i % 4 === 0) {
      svg.append(s('text', { x: (left + i * slot + slot / 2).toFixed(1), y: H - bottom + 18, class: 'tick', 'text-anchor': 'middle' },
        fmtDay(from).slice(5)));
    }
  });
  svg.append(s('text', { x: left + plotW / 2, y: H - 6, class: 'label', 'text-anchor': 'middle' }, 'week starting (UTC, month-day)'));
  return svg;
}
