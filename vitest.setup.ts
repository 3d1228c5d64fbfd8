// Every property and law runs with a fixed fast-check seed, so that a CI run is reproducible.
// Override with HYPERGRAD_FC_SEED (and HYPERGRAD_FC_RUNS to scale the run counts up locally).
import fc from 'fast-check'

const seed = Number(process.env['HYPERGRAD_FC_SEED'] ?? 20210413)
fc.configureGlobal({ seed, numRuns: Number(process.env['HYPERGRAD_FC_RUNS'] ?? 25) })
