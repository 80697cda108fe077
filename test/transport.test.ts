// The datagram seam's conformance suite against both implementations: real UDP on loopback, and the
// simulator's transports in virtual time.

import { UdpReceiverTransport, UdpSenderTransport } from '../src/transport/udp.js';
import { Link } from '../sim/network.js';
import { stream } from '../sim/prng.js';
import { SimNet } from '../sim/transport.js';
import { freePort } from '../harness/net.js';
import { runTransportConformance } from './transport.conformance.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

runTransportConformance('UDP on loopback', async () => {
  const port = await freePort();
  const dead = await freePort(); // nothing listens there: the kernel answers with ICMP port unreachable
  const receiver = new UdpReceiverTransport(port, '127.0.0.2');
  const sender = new UdpSenderTransport([
    { address: '127.0.0.2', port },
    { address: '127.0.0.2', port: dead },
  ]);
  return {
    sender,
    receiver,
    async run(ms, until = () => false) {
      const end = performance.now() + ms;
      while (!until() && performance.now() < end) await sleep(1);
    },
    reportsUnreachable: true,
    async dispose() {
      sender.close();
      receiver.close();
    },
  };
});

runTransportConformance('simulated links', async () => {
  const net = new SimNet({
    receivers: 2,
    link: (r, dir, deliver) =>
      new Link({ delayMs: 3, jitterMs: 1, loss: 0, duplicate: 0, corrupt: 0, bandwidthMbps: 0, queuePackets: 0 }, stream(1, `conformance/${r}/${dir}`), 0, 'checked', deliver),
    watch: { livelock: () => {} },
  });
  return {
    sender: net.sender,
    receiver: net.receivers[0]!,
    async run(ms, until = () => false) {
      const end = net.queue.now + ms;
      while (!until()) {
        const next = net.queue.peekTime();
        if (next === undefined || next > end) {
          net.queue.now = Math.max(net.queue.now, end); // idle time passes too
          return;
        }
        net.step();
      }
    },
    reportsUnreachable: false,
    async dispose() {},
  };
});
