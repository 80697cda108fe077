// Peak-RSS probe where GNU time is missing: `node --import dist/harness/maxrss.js SCRIPT` prints the process's
// peak resident set size (process.resourceUsage().maxRSS, KiB; worker threads included) on stderr at exit.

process.on('exit', () => {
  process.stderr.write(`maxrss-kib: ${process.resourceUsage().maxRSS}\n`);
});
