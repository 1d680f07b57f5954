// Reconnect delays for the live stream: exponential from 1 s, capped at 30 s, with jitter so many tabs
// do not reconnect in lockstep after a server restart.
export const BASE_DELAY_MS = 1000;
export const MAX_DELAY_MS = 30_000;

/** Delay before reconnect attempt `attempt` (0-based); `random` in [0, 1) spreads it by up to ±20%. */
export function reconnectDelay(attempt: number, random: number = Math.random()): number {
  const exponential = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** Math.max(0, attempt));
  const jitter = 1 + (random * 2 - 1) * 0.2;
  return Math.round(Math.min(MAX_DELAY_MS, exponential * jitter));
}
