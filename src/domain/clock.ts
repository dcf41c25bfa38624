import type { Clock } from "./ports.js";

export const systemClock: Clock = { now: () => new Date() };

export const addMinutes = (d: Date, minutes: number) => new Date(d.getTime() + minutes * 60_000);
export const addSeconds = (d: Date, seconds: number) => new Date(d.getTime() + seconds * 1000);
export const epochSeconds = (d: Date) => Math.floor(d.getTime() / 1000);
