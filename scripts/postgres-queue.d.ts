/** The queue postgres.js uses for its connections and waiting queries (postgres-queue.js). */
export interface BoundedQueue<T> {
  readonly length: number;
  readonly capacity: number;
  remove(x: T): T | null;
  push(x: T): T;
  shift(): T | undefined;
}
export default function Queue<T>(initial?: T[]): BoundedQueue<T>;
