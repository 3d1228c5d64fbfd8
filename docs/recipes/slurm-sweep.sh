#!/bin/sh
#SBATCH --job-name=hypergrad-sweep
#SBATCH --array=1-16
#SBATCH --cpus-per-task=2
#SBATCH --mem=2G
#SBATCH --time=02:00:00
#SBATCH --output=hypergrad-%A_%a.out
#
# One slice of a hypergrad experiment per task of a Slurm job array:
#
#   sbatch --array=1-16 docs/recipes/slurm-sweep.sh sid-fig1 [reproduce options…]
#
# Array task i (counted from the first index of --array, whatever it is) runs slice i of
# SLURM_ARRAY_TASK_COUNT and writes $SWEEP_DIR/<experiment>/shards/shard-i-of-n.json. Use a
# contiguous --array range (1-16, 0-15, 1-16%4); a step (1-16:2) would leave slices out. When
# every task has ended, merge the slices into results.json, results.csv and the figures:
#
#   sbatch --dependency=afterok:<job id> --wrap "npx hypergrad merge out/sid-fig1/shards --out out/sid-fig1"
#
# The folder must be on storage that every node writes to. HYPERGRAD overrides the command
# (default: npx hypergrad, run from a checkout after `npm ci && npm run build`).
set -eu
: "${SLURM_ARRAY_TASK_ID:?run this script as a Slurm job array: sbatch --array=1-N $0 EXPERIMENT [options]}"
: "${SLURM_ARRAY_TASK_COUNT:?run this script as a Slurm job array: sbatch --array=1-N $0 EXPERIMENT [options]}"
experiment=${1:?name the experiment: sbatch --array=1-N $0 EXPERIMENT [options]}
shift
slice=$((SLURM_ARRAY_TASK_ID - ${SLURM_ARRAY_TASK_MIN:-1} + 1))
exec ${HYPERGRAD:-npx hypergrad} reproduce "$experiment" "$@" \
  --shard "$slice/$SLURM_ARRAY_TASK_COUNT" \
  ${SLURM_CPUS_PER_TASK:+--workers "$SLURM_CPUS_PER_TASK"} \
  --out "${SWEEP_DIR:-out}/$experiment/shards" --quiet
