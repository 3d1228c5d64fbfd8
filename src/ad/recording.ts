/**
 * Recording: a function written with the engine's operations is called once, on symbolic Nodes
 * (`node.ts`), and every operation it performs appends an instruction to the recording. The
 * recording is then compiled into a tape (`program.ts`) and replayed on numbers as often as
 * needed: recorded once per shape (and per minibatch size), replayed per call.
 *
 * Errors found while recording (a shape mismatch, a node of another recording, malformed data)
 * end the recording: the operation throws an internal `AdFault`, which `record` turns into a
 * `Left` holding its one-line `HypergradError`. Operations called outside a recording throw a
 * RangeError (they have nowhere to record to).
 */
import * as E from 'fp-ts/lib/Either.js'
import { hgError, type ErrorKind, type HypergradError } from '../errors.js'
import type { RVec } from '../linalg/types.js'
import type { Instr } from './instr.js'
import { Node } from './node.js'

/** Bits of `NodeInfo.dep`: the node depends on w, on λ. */
export const DEP_W = 1
export const DEP_LAMBDA = 2

/** What the tape knows of a node. */
export interface NodeInfo {
  readonly rows: number
  readonly cols: number
  /** DEP_W | DEP_LAMBDA: which inputs it depends on (0: a constant, given the minibatch). */
  readonly dep: number
  /** True when its value depends on the minibatch indices. */
  readonly batch: boolean
  /** The node whose buffers it shares (a reshape), or −1. */
  readonly alias: number
  /** The constant's value (the caller's array, never written), for constants. */
  readonly value?: RVec
  /** 'w' or 'lambda' for the two inputs. */
  readonly leaf?: 'w' | 'lambda'
}

/** The error that ends a recording (internal: `record` turns it into a Left). */
export class AdFault extends Error {
  constructor(readonly error: HypergradError) {
    super(error.message)
    this.name = 'AdFault'
  }
}

/** End the recording with a one-line error. */
export const fault = (kind: ErrorKind, message: string): never => {
  throw new AdFault(hgError(kind, message))
}

/** The instructions and node shapes of one recording. */
export class Recording {
  readonly nodes: NodeInfo[] = []
  readonly instrs: Instr[] = []
  constructor(
    /** n: the number of samples the minibatch indices range over (0: no minibatches). */
    readonly nSamples: number,
    /** m: the minibatch size of this recording, or null for the full sum. */
    readonly batchSize: number | null,
  ) {}

  private add(info: NodeInfo): Node {
    this.nodes.push(info)
    return new Node(this, this.nodes.length - 1, info.rows, info.cols)
  }

  /** One of the two inputs. */
  leaf(which: 'w' | 'lambda', rows: number, cols: number): Node {
    return this.add({ rows, cols, dep: which === 'w' ? DEP_W : DEP_LAMBDA, batch: false, alias: -1, leaf: which })
  }

  /** A constant (the array is kept, not copied, and never written). */
  constant(value: RVec, rows: number, cols: number): Node {
    if (value.length !== rows * cols) fault('dimension', `ad: a constant of ${value.length} entries cannot be ${rows}×${cols}`)
    return this.add({ rows, cols, dep: 0, batch: false, alias: -1, value })
  }

  /** A node sharing the buffers of `of` under another shape of the same size. */
  alias(of: Node, rows: number, cols: number): Node {
    const base = this.info(of)
    const root = base.alias >= 0 ? base.alias : of.id
    return this.add({ rows, cols, dep: base.dep, batch: base.batch, alias: root, ...(base.value !== undefined ? { value: base.value } : {}), ...(base.leaf !== undefined ? { leaf: base.leaf } : {}) })
  }

  /** Append the instruction `make(out)` writing a new rows × cols node computed from `inputs`. */
  emit(rows: number, cols: number, inputs: ReadonlyArray<number>, usesBatch: boolean, make: (out: number) => Instr): Node {
    let dep = 0
    let batch = usesBatch
    for (const i of inputs) {
      const n = this.nodes[i]!
      dep |= n.dep
      batch = batch || n.batch
    }
    const node = this.add({ rows, cols, dep, batch, alias: -1 })
    this.instrs.push(make(node.id))
    return node
  }

  info(n: Node): NodeInfo {
    return this.nodes[n.id]!
  }
}

let current: Recording | undefined

/** The recording in progress (a RangeError outside one). */
export const currentRecording = (what: string): Recording => {
  if (current === undefined) throw new RangeError(`ad.${what}: called outside a recording (use it inside the function given to ad.scalarFunction or ad.vectorFunction)`)
  return current
}

/** Check that a node belongs to the recording in progress. */
export const own = (what: string, n: Node): Node => {
  const rec = currentRecording(what)
  if (n.rec !== rec) fault('dimension', `ad.${what}: ${n.toString()} belongs to another recording (a node kept from an earlier call?)`)
  return n
}

/**
 * Run `fn` with `rec` as the recording in progress; an `AdFault` (or any error thrown by the
 * user's function) becomes a Left.
 */
export const record = <A>(rec: Recording, who: string, fn: () => A): E.Either<HypergradError, A> => {
  const outer = current
  current = rec
  try {
    return E.right(fn())
  } catch (e) {
    if (e instanceof AdFault) return E.left(e.error)
    return E.left(hgError('config', `${who}: the function threw while recording: ${e instanceof Error ? e.message : String(e)}`))
  } finally {
    current = outer
  }
}
