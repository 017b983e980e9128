package siemsync

import (
	"strconv"
	"time"

	"github.com/google/uuid"
)

var snapshotNS = uuid.MustParse("8f1d4a4e-3c55-4d55-9a35-6f2b8e8f4a11")

// SnapshotID is the id of one job snapshot: a name-based UUID of the job, its
// change sequence and the upload time in milliseconds.
func SnapshotID(job string, seq int64, upload time.Time) string {
	b := make([]byte, 0, 64)
	b = append(b, job...)
	b = append(b, '/')
	b = strconv.AppendInt(b, seq, 10)
	b = append(b, '/')
	b = strconv.AppendInt(b, upload.UnixMilli(), 10)
	return uuid.NewSHA1(snapshotNS, b).String()
}
