// SPDX-License-Identifier: MIT
// Reads a session's latency.hlog with hdr-histogram-js (an independent HdrHistogram) and checks
// it against the driver's exact figures (expected.json) and the session's histograms.json.
"use strict";
const fs = require("fs");
const path = require("path");
const hdr = require("hdr-histogram-js");

const dir = process.argv[2];
if (!dir) {
  console.error("usage: check_hlog.js SESSION_DIR");
  process.exit(2);
}
const read = (name) => {
  try {
    return fs.readFileSync(path.join(dir, name), "utf8");
  } catch (e) {
    console.error(`check_hlog: cannot read ${path.join(dir, name)}: ${e.message}`);
    process.exit(1);
  }
};
const log = read("latency.hlog");
const expected = JSON.parse(read("expected.json"));
const own = JSON.parse(read("histograms.json")).stages;
const failures = [];
const check = (ok, what) => {
  if (!ok) failures.push(what);
};

check(/^#\[StartTime: \d+\.\d{3} /m.test(log), "no #[StartTime: ...] header");
check(/^#\[BaseTime: \d+\.\d{3} /m.test(log), "no #[BaseTime: ...] header");
check(log.includes('"StartTimestamp","Interval_Length","Interval_Max","Interval_Compressed_Histogram"'),
  "no column header line");
const intervalLines = log.split("\n").filter((l) => l.startsWith("Tag="));

const reader = new hdr.HistogramLogReader(log, 64);
const perTag = {};
let decoded = 0;
for (let h = reader.nextIntervalHistogram(); h !== null; h = reader.nextIntervalHistogram()) {
  decoded++;
  const length = (h.endTimeStampMsec - h.startTimeStampMsec) / 1000;
  check(Math.abs(length - 1) < 1e-6, `interval ${h.tag}@${h.startTimeStampMsec} is ${length} s, not 1 s`);
  check(h.startTimeStampMsec % 1000 === 0, `interval ${h.tag} starts off a whole second`);
  if (!perTag[h.tag]) {
    perTag[h.tag] = { sum: hdr.build({ bitBucketSize: 64, numberOfSignificantValueDigits: 3 }), intervals: 0 };
  }
  perTag[h.tag].sum.add(h);
  perTag[h.tag].intervals++;
}
check(decoded === intervalLines.length,
  `hdr-histogram-js decoded ${decoded} of ${intervalLines.length} interval lines (it stops at a bad one)`);

const within3 = (got, exact) => got >= exact && got <= exact + Math.floor(exact / 1024);
for (const [stage, want] of Object.entries(expected)) {
  const t = perTag[stage];
  if (!t) {
    failures.push(`no intervals tagged ${stage}`);
    continue;
  }
  const h = t.sum;
  check(t.intervals === want.intervals, `${stage}: ${t.intervals} intervals, want ${want.intervals}`);
  check(h.totalCount === want.count, `${stage}: count ${h.totalCount}, want ${want.count}`);
  check(h.totalCount === own[stage].count, `${stage}: count ${h.totalCount}, histograms.json ${own[stage].count}`);
  const figures = { p50: 50, p90: 90, p99: 99, p99_9: 99.9 };
  for (const [name, p] of Object.entries(figures)) {
    const got = h.getValueAtPercentile(p);
    check(within3(got, want[name]), `${stage} ${name}: hlog ${got}, exact ${want[name]} (3 digits allow +${Math.floor(want[name] / 1024)})`);
    // The session's histogram has 1/128 buckets: its figure and the hlog's agree to that.
    const o = own[stage][name];
    check(Math.abs(got - o) <= Math.floor(Math.max(got, o) / 128) + 1,
      `${stage} ${name}: hlog ${got}, histograms.json ${o}`);
  }
  // hdr-histogram-js keeps the max as its bucket's lowest value; Java reports the highest.
  const max = h.highestEquivalentValue(h.maxValue);
  check(within3(max, want.max), `${stage} max: hlog ${max}, exact ${want.max}`);
  check(own[stage].max === want.max, `${stage} max: histograms.json ${own[stage].max}, exact ${want.max}`);
  console.log(`${stage}: count ${h.totalCount} intervals ${t.intervals} p50 ${h.getValueAtPercentile(50)} ` +
    `p99.9 ${h.getValueAtPercentile(99.9)} max ${h.highestEquivalentValue(h.maxValue)}`);
}
for (const tag of Object.keys(perTag)) check(tag in expected, `unexpected tag ${tag}`);

if (failures.length) {
  console.error(`check_hlog: ${failures.length} failure(s) in ${dir}/latency.hlog:`);
  for (const f of failures) console.error("  " + f);
  process.exit(1);
}
console.log(`check_hlog: ${decoded} intervals in ${dir}/latency.hlog agree`);
