package sync

// Runners is how many cycle runners the scheduler has started.
func (sc *Scheduler) Runners() int { return int(sc.runners.Load()) }
