export * from './optimizer.js'
export * from './tune.js'
export * from './adaptive.js'
