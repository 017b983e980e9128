package main

import (
	"path/filepath"
	gosync "sync"
	"testing"

	"github.com/siemsync/siemsync/internal/pgtest"
)

// onPostgres holds the tests (by *testing.T) that run against a PostgreSQL
// database of the package's private cluster instead of a SQLite file.
var onPostgres gosync.Map

// pgSecretKey is the secret key of PostgreSQL installations: workers on one
// database share it through SIEMSYNC_SECRET_KEY (there is no file beside the
// database to keep it in).
const pgSecretKey = "fYv1yJc3m2kq0T8pZr6Xw4sN7uB9eD5aH1gL3oQ2iVc="

// database is the SIEMSYNC_DB of a test's installation, and the
// environment that goes with it.
func database(t *testing.T, dir string) (string, []string) {
	if _, ok := onPostgres.Load(t); ok {
		return pgtest.DSN(t), []string{"SIEMSYNC_SECRET_KEY=" + pgSecretKey}
	}
	return filepath.Join(dir, "siemsync.db"), nil
}

// Every command, serve with its admin API, and the crash guarantees behave
// the same on PostgreSQL (SPEC 6.1): the end-to-end tests that do not
// depend on the storage engine run again with --db postgres://….
func TestE2EOnPostgres(t *testing.T) {
	for name, test := range map[string]func(*testing.T){
		"AuditExactlyOnceAcrossCyclesAndAccounts": TestE2EAuditExactlyOnceAcrossCyclesAndAccounts,
		"JobsRunningResentFinishedNot":            TestE2EJobsRunningResentFinishedNot,
		"OutageThenCatchUp":                       TestE2EOutageThenCatchUp,
		"BadInputStoresNothing":                   TestE2EBadInputStoresNothing,
		"ReingestDuplicatesNothing":               TestE2EReingestDuplicatesNothing,
		"IntegrationsCLI":                         TestE2EIntegrationsCLI,
		"SetAsideRetryAndDrop":                    TestE2ESetAsideRetryAndDrop,
		"PruneReportsUndelivered":                 TestE2EPruneReportsUndelivered,
		"CrashSIGKILL":                            TestCrashSIGKILL,
	} {
		t.Run(name, func(t *testing.T) {
			onPostgres.Store(t, true)
			t.Cleanup(func() { onPostgres.Delete(t) })
			test(t)
		})
	}
}
