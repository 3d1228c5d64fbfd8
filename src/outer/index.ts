export * from './optimizers/index.js'
export * from './tune.js'
export * from './adaptive.js'
