// The lower-level solver factories (and only them: the law suite runs every function exported here).
export { fixedPointIteration, type FixedPointIterationOptions, type FixedPointState } from './fixedPoint.js'
export { heavyBall, type HeavyBallOptions, type HeavyBallState } from './heavyBall.js'
export { sgd, type SgdOptions } from './sgd.js'
export { svrg, type SvrgOptions, type SvrgState } from './svrg.js'
export { saga, type SagaOptions, type SagaState } from './saga.js'
export { newton, type NewtonOptions, type NewtonState } from './newton.js'
export { newtonCg, type NewtonCgOptions, type NewtonCgState } from './newtonCg.js'
export { lbfgs, type LbfgsLowerOptions, type LbfgsLowerState } from './lbfgs.js'
