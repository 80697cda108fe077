// Fallback peak-RSS probe where /usr/bin/time -v is missing: load with `node --import dist/bench/maxrss.js`
// and the process prints its peak resident set size (process.resourceUsage().maxRSS, KiB) on stderr at exit.

process.on('exit', () => {
  process.stderr.write(`maxrss-kib: ${process.resourceUsage().maxRSS}\n`);
});
