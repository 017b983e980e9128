package postgres_test

import (
	"testing"

	"github.com/siemsync/siemsync/store"
	"github.com/siemsync/siemsync/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Backend { return open(t) })
}
