// Resource probe: `node --import dist/harness/maxrss.js SCRIPT` prints the process's peak resident set size
// (process.resourceUsage().maxRSS, KiB) and its CPU time (user and system, µs) on stderr at exit, worker threads
// included: the peak RSS where GNU time is missing, the CPU time wherever a launcher (`ip netns exec`) sits
// between the benchmark and node. Read them with parseMaxRssKiB and parseCpuSeconds (machine.ts).

process.on('exit', () => {
  const u = process.resourceUsage();
  process.stderr.write(`maxrss-kib: ${u.maxRSS}\ncpu-us: ${u.userCPUTime} ${u.systemCPUTime}\n`);
});
