// Lockstep (the classic multi-receiver rule): segment i goes to nobody until every live receiver has ACKed
// segment i - 1. With acked[r] = number of segments receiver r has acknowledged, the highest index any
// receiver may send is the minimum over live receivers. Failed receivers leave the barrier.

export function lockstepLimit(acked: ArrayLike<number>, live: ArrayLike<boolean>): number {
  let limit = Number.POSITIVE_INFINITY;
  for (let r = 0; r < acked.length; r++) if (live[r] && acked[r]! < limit) limit = acked[r]!;
  return limit;
}
