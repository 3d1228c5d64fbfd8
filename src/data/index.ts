/** Data: the Dataset type, libsvm and MNIST loaders, splits, checks and snapshots. */
export * from './dataset.js'
export * from './libsvm.js'
export * from './mnist.js'
export * from './split.js'
export * from './validate.js'
export * from './snapshot.js'
export * from './cars.js'
export * from './mnistPooled.js'
