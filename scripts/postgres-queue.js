// tessera: bounded queue (replaces postgres.js 3.4.x src/queue.js; see scripts/patch-postgres.cjs)
// postgres.js's own Queue leaves a hole at each shift and empties its array only when every element
// has been shifted. Its pool moves a connection it shifts off `busy` straight back onto `busy`, so
// while every connection is busy that array never empties: it grows by one slot a query, and the
// indexOf in remove() walks all of it on every query (measured: 23,000 -> 6,000 queries/s within
// 400,000 queries). Here the dead prefix is dropped once it outgrows the live part, so the array stays
// within twice the live length plus a few slots, and remove() looks only at live elements.
const COMPACT_AFTER = 32

function Queue(initial = []) {
  let xs = initial.slice()
  let index = 0

  return {
    get length() {
      return xs.length - index
    },
    /** Slots held, dead or alive: the bound the tests check. */
    get capacity() {
      return xs.length
    },
    remove: (x) => {
      const at = xs.indexOf(x, index)
      return at === -1
        ? null
        : (xs.splice(at, 1), x)
    },
    push: (x) => (xs.push(x), x),
    shift: () => {
      const out = xs[index]
      xs[index++] = undefined
      if (index >= xs.length) {
        index = 0
        xs = []
      } else if (index >= COMPACT_AFTER && index * 2 >= xs.length) {
        xs = xs.slice(index)
        index = 0
      }
      return out
    }
  }
}

export default Queue
