#!/bin/bash
# Lesson 10: the bootstrap as a SLURM job array of TASKS tasks, then one job that combines their
# blocks into the intervals, started only once every array task has succeeded.
#
#   bash hpc/submit_array.sh [TASKS] [SAMPLES] [SEED]          (defaults: 4 1000 1)
#
# Run it from the repository's root, with the course's environment activated: sbatch hands the
# environment it is called from (PATH included) on to the jobs.
set -euo pipefail
TASKS=${1:-4}
SAMPLES=${2:-1000}
SEED=${3:-1}
mkdir -p logs results
# --parsable prints the job id (followed by ";cluster" on sites with several clusters).
array=$(sbatch --parsable --array=0-$((TASKS - 1)) hpc/bootstrap_array.sbatch "$TASKS" "$SAMPLES" "$SEED")
array=${array%%;*}
# afterok on the array's id: the combine job waits until all of the array's tasks ended successfully.
# --kill-on-invalid-dep=yes: if one fails, SLURM cancels the combine job instead of leaving it
# pending for ever (reason DependencyNeverSatisfied); hpc/README.md says what to do then.
sbatch --dependency=afterok:"$array" --kill-on-invalid-dep=yes \
    hpc/combine_array.sbatch "$TASKS" "$SAMPLES" "$SEED"
echo "array job $array: $TASKS tasks of $SAMPLES samples in all (seed $SEED); results/ci_array.csv when done"
