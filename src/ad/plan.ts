/**
 * Plans: which nodes need a tangent, an adjoint, or the tangent of an adjoint, for one kind of
 * request. Made once per (tape, request) and reused, so that every call computes exactly what
 * its products need and nothing else:
 *
 *   - a node has a non-zero tangent when it depends on a seeded input (w, λ or both);
 *   - the adjoint-tangent x̄̇ is needed on the inputs asked for (`at`), and then on every node
 *     they feed (toward the result); a nonlinear instruction it passes through also needs its
 *     own adjoint ȳ (the term Σⱼ(∂ⱼ∂ᵢf·ẋⱼ)ᵀȳ) and the tangents of its inputs;
 *   - the adjoint x̄ is needed on the inputs asked for (`adj`), on every node they feed, and
 *     where a second-order term asks for it;
 *   - a tangent is computed where some later tangent or second-order term reads it (or for the
 *     result's own tangent, `jvp`).
 * So the Hessian-vector product of a generalized linear model, for instance, computes no
 * adjoint of w and no tangent of the loss: only Xu, the second derivatives, and Xᵀ(…).
 */
import type { Instr } from './instr.js'
import { engineCandidate, type MatMulInstr } from './matmul.js'
import { DEP_LAMBDA, DEP_W, type NodeInfo } from './recording.js'

/** What a call asks for. Bits: DEP_W (w), DEP_LAMBDA (λ). */
export interface Request {
  /** The inputs given a direction (tangent seeds). */
  readonly tan: number
  /** The inputs whose adjoint (gradient) is wanted. */
  readonly adj: number
  /** The inputs whose adjoint-tangent (second-order product) is wanted. */
  readonly at: number
  /** The result's tangent is wanted (a Jacobian-vector product). */
  readonly jvp: boolean
}

export interface Plan {
  readonly needTan: Uint8Array
  readonly needAdj: Uint8Array
  readonly needAT: Uint8Array
  /** The instructions of the forward sweep, in order. */
  readonly fwd: ReadonlyArray<Instr>
  /** True when there is a reverse sweep. */
  readonly reverse: boolean
  /** The reverse sweep: the instructions after the row-engine product (all of them without one), last first … */
  readonly revAfter: ReadonlyArray<Instr>
  /** … then, after the product's own reverse step, those before it, last first. */
  readonly revBefore: ReadonlyArray<Instr>
  /** Buffers (by owner node) zeroed before the reverse sweep. */
  readonly zeroAdj: ReadonlyArray<number>
  readonly zeroAT: ReadonlyArray<number>
  /** The data–vector product run on the row engine, and its index in `fwd`. */
  readonly engine?: { readonly instr: MatMulInstr; readonly at: number }
}

interface Edge {
  readonly out: number
  readonly nonlinear: boolean
  readonly inputs: ReadonlyArray<number>
}

/** What a plan reads of a recorded program (its nodes, instructions, result and inputs). */
export interface PlannedProgram {
  readonly nodes: ReadonlyArray<NodeInfo>
  readonly instrs: ReadonlyArray<Instr>
  readonly out: number
  readonly root: Int32Array
  readonly wId: number
  readonly lambdaId: number
}

export const planFor = (prog: PlannedProgram, req: Request): Plan => {
  const N = prog.nodes.length
  const out = prog.out
  // Readers of each node: the instructions, and a reshape as a linear step from its source.
  const readers: Edge[][] = Array.from({ length: N }, () => [])
  const producer = new Map<number, Instr>()
  for (const ins of prog.instrs) {
    producer.set(ins.out, ins)
    for (const i of new Set(ins.inputs)) readers[i]!.push(ins)
  }
  prog.nodes.forEach((n, i) => {
    if (n.alias >= 0) readers[n.alias]!.push({ out: i, nonlinear: false, inputs: [n.alias] })
  })
  // Ancestors of the result.
  const anc = new Uint8Array(N)
  const stack = [out]
  while (stack.length > 0) {
    const x = stack.pop()!
    if (anc[x] === 1) continue
    anc[x] = 1
    const a = prog.nodes[x]!.alias
    if (a >= 0) stack.push(a)
    const ins = producer.get(x)
    if (ins !== undefined) for (const i of ins.inputs) stack.push(i)
  }
  const tanAct = Uint8Array.from(prog.nodes, (n) => ((n.dep & req.tan) !== 0 ? 1 : 0))
  const needAdj = new Uint8Array(N)
  const needAT = new Uint8Array(N)
  // Flag `start` and every node downstream of it (among the ancestors of the result); `onEdge`
  // sees each edge followed.
  const markFrom = (flags: Uint8Array, start: number, onEdge?: (r: Edge) => void): void => {
    const st = [start]
    while (st.length > 0) {
      const x = st.pop()!
      if (flags[x] === 1) continue
      flags[x] = 1
      for (const r of readers[x]!) {
        if (anc[r.out] !== 1) continue
        st.push(r.out)
        onEdge?.(r)
      }
    }
  }
  const markAdj = (start: number): void => markFrom(needAdj, start)
  // A nonlinear reader of a node with a tangent feeds x̄̇ from ȳ: its output needs an adjoint.
  const markAT = (start: number): void =>
    markFrom(needAT, start, (r) => {
      if (r.nonlinear && r.inputs.some((i) => tanAct[i] === 1)) markAdj(r.out)
    })
  const leaves: ReadonlyArray<readonly [number, number]> = [
    [DEP_W, prog.wId],
    [DEP_LAMBDA, prog.lambdaId],
  ]
  for (const [bit, id] of leaves) if ((req.at & bit) !== 0) markAT(id)
  for (const [bit, id] of leaves) if ((req.adj & bit) !== 0) markAdj(id)
  // Tangents: from the last node back, a node needs one when a reader needs its own or a second-order term reads it.
  const needTan = new Uint8Array(N)
  for (let i = N - 1; i >= 0; i--) {
    if (tanAct[i] !== 1) continue
    if (req.jvp && i === out) {
      needTan[i] = 1
      continue
    }
    for (const r of readers[i]!) {
      if (anc[r.out] !== 1) continue
      if (needTan[r.out] === 1 || (r.nonlinear && r.inputs.some((x) => needAT[x] === 1))) {
        needTan[i] = 1
        break
      }
    }
  }
  const fwd = prog.instrs.filter((ins) => anc[ins.out] === 1)
  const rev = fwd.filter((ins) => needAdj[ins.out] === 1 || needAT[ins.out] === 1)
  // The product for the row engine: the largest data–vector product whose operand needs an adjoint.
  let engine: { instr: MatMulInstr; at: number } | undefined
  fwd.forEach((ins, at) => {
    if (!engineCandidate(ins)) return
    if (!(needAdj[ins.b] === 1 || needAT[ins.b] === 1) || !(needAdj[ins.out] === 1 || needAT[ins.out] === 1)) return
    const size = (d: MatMulInstr): number => d.data!.data.rows * d.data!.data.cols
    if (engine === undefined || size(ins) > size(engine.instr)) engine = { instr: ins, at }
  })
  const position = new Map(fwd.map((ins, j) => [ins, j]))
  const after = engine === undefined ? rev : rev.filter((ins) => position.get(ins)! > engine!.at)
  const before = engine === undefined ? [] : rev.filter((ins) => position.get(ins)! < engine!.at)
  const roots = (flags: Uint8Array): number[] => {
    const s = new Set<number>()
    for (let i = 0; i < N; i++) if (flags[i] === 1) s.add(prog.root[i]!)
    return [...s]
  }
  const reverse = needAdj.some((f) => f === 1) || needAT.some((f) => f === 1)
  return {
    needTan,
    needAdj,
    needAT,
    fwd,
    reverse,
    revAfter: after.reverse(),
    revBefore: before.reverse(),
    zeroAdj: roots(needAdj),
    zeroAT: roots(needAT),
    ...(engine !== undefined ? { engine } : {}),
  }
}
