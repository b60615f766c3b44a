// The shard's end condition for each job kind, and the empty shard.
#include "thumbfetch/job/fetch_job.hpp"
#include "thumbfetch/job/folder.hpp"
#include "thumbfetch/job/pipeline_job.hpp"
#include "thumbfetch/job/shard.hpp"

namespace thumbfetch {

bool all_settled(const PipelineJob& job) {
  // A full disk stops a run with items not started: the shard is not done.
  if (job.interrupted() || job.out_of_space()) return false;
  for (const PipelineResult& r : job.results()) {
    if (r.state != PipelineResult::State::failed) continue;
    if (!r.started || r.error.kind == ErrorKind::cancelled) return false;
  }
  return true;
}

bool all_settled(const FetchJob& job) {
  // The tally counts what was stopped before or while it ran as not started.
  return !job.interrupted() && !job.out_of_space() && job.not_started() == 0;
}

void finish_empty_shard(const ShardTask& task, const std::string& command) {
  const double started = unix_seconds_now();
  OutputFolder folder = OutputFolder::open(task.dir(), command, WaitForLock::no);
  task.record();
  task.finish({started, unix_seconds_now(), 0, 0, true});
}

}  // namespace thumbfetch
