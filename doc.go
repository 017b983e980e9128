// Package siemsync holds the domain types shared by every part of the worker:
// the audit and job records the host product feeds in, the integrations that
// customers configure, and the small error and check types that the CLI, the
// admin API and the sinks exchange. It imports nothing of the project, so the
// store, sources, sinks, sync and admin packages can all depend on it.
package siemsync
