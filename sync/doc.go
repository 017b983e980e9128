// Package sync runs sync cycles: one cycle sends one integration everything
// of its account since its checkpoints, and the scheduler runs cycles for all
// enabled integrations on a cron schedule with bounded concurrency.
//
// A cycle is a two-stage pipeline. A producer reads pages from the sources
// and encodes them into batches with the sink's encoder; the consumer sends
// each batch and, once the destination accepted it, moves the checkpoint in
// the same store transaction that records the batch. Reading and encoding
// the next batch overlaps sending the current one, and at most a few batches
// exist at once, so memory does not grow with the backlog.
//
// Delivery is at-least-once. The checkpoint only moves after the destination
// accepted a batch, so a crash between a post and its checkpoint, a timeout
// whose request did reach Splunk, or a partially indexed batch cause the
// events to be sent again; every event carries a stable id for the SIEM to
// deduplicate on. A failed batch stops the cycle; the next cycle resumes from
// the checkpoint, so it carries everything since the last successful post.
package sync
