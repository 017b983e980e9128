// Package pgtest runs a private PostgreSQL cluster for the tests of one
// package: Debian's server binaries, initdb into a temporary directory (as
// the postgres OS user when the tests run as root, since the server refuses
// to run as root), its own port on 127.0.0.1 and its own socket directory,
// fsync off. Each test gets a fresh database. The system's PostgreSQL
// service is never used.
//
// A package's TestMain calls Main so that the cluster stops when its tests
// end. Where the binaries are missing the tests skip, except in CI
// (CI=true), where .ci/run installs them and a skip would hide lost tests.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	gosync "sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/siemsync/siemsync/internal/testenv"
)

// binGlob finds Debian's server binaries, one directory per major version.
const binGlob = "/usr/lib/postgresql/*/bin"

// cluster is the running server of this test binary.
type cluster struct {
	dir  string
	port int
	cmd  *exec.Cmd
	done chan struct{} // closed when the server process exits
	out  *os.File
}

var (
	once    gosync.Once
	running *cluster
	failed  error // why the cluster could not start; tests skip or fail with it
	skipped bool  // the binaries are missing
	dbNum   atomic.Int64
)

// Main runs the tests of a package and stops the cluster afterwards:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
func Main(m *testing.M) int {
	code := m.Run()
	if running != nil {
		running.stop()
	}
	return code
}

// DSN returns the URL of a new empty database for t, dropped when t ends.
// It starts the package's cluster on first use.
func DSN(t testing.TB) string {
	t.Helper()
	once.Do(func() { running, failed = start() })
	if skipped {
		testenv.Missing(t, failed.Error())
	}
	if failed != nil {
		t.Fatalf("start PostgreSQL: %v", failed)
	}
	name := fmt.Sprintf("t%d_%d", os.Getpid(), dbNum.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := running.exec(ctx, "CREATE DATABASE "+name+" TEMPLATE template0"); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := running.exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop test database: %v", err)
		}
	})
	return running.url(name)
}

// Stop stops the package's cluster, if it runs; tests of a server's loss
// use it. DSN does not restart it.
func Stop() {
	if running != nil {
		running.stop()
	}
}

func (c *cluster) url(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.port, db)
}

func (c *cluster) exec(ctx context.Context, sql string) error {
	conn, err := pgx.Connect(ctx, c.url("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

// binary finds a server binary of the newest installed major version.
func binary(name string) (string, error) {
	dirs, _ := filepath.Glob(binGlob)
	slices.SortFunc(dirs, func(a, b string) int { return version(b) - version(a) })
	for _, d := range dirs {
		p := filepath.Join(d, name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found in %s (Debian package postgresql)", name, binGlob)
}

// version is the major version in a path like /usr/lib/postgresql/15/bin.
func version(dir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return v
}

// start creates and starts the cluster.
func start() (*cluster, error) {
	initdb, err := binary("initdb")
	if err != nil {
		skipped = true
		return nil, err
	}
	postgres, err := binary("postgres")
	if err != nil {
		skipped = true
		return nil, err
	}
	cred, err := credential()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "pgtest")
	if err != nil {
		return nil, fmt.Errorf("make cluster directory: %w", err)
	}
	c := &cluster{dir: dir}
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("give %s to the postgres user: %w", dir, err)
		}
	}
	data := filepath.Join(dir, "data")
	cmd := exec.Command(initdb, "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := cmd.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb: %w\n%s", err, out)
	}
	for attempt := 0; ; attempt++ {
		err := c.run(postgres, cred)
		if err == nil {
			return c, nil
		}
		if attempt == 3 {
			os.RemoveAll(dir)
			return nil, err
		}
	}
}

// run starts the server on a free port and waits until it accepts
// connections. The server is a child of the test process, killed by the
// kernel if the test process dies without stopping it.
func (c *cluster) run(postgres string, cred *syscall.Credential) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	c.port = port
	c.out, err = os.Create(filepath.Join(c.dir, "server.log"))
	if err != nil {
		return fmt.Errorf("create server log: %w", err)
	}
	c.cmd = exec.Command(postgres, "-D", filepath.Join(c.dir, "data"),
		"-p", strconv.Itoa(port), "-k", c.dir, "-c", "listen_addresses=127.0.0.1",
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "max_connections=300", "-c", "shared_buffers=64MB")
	c.cmd.Stdout, c.cmd.Stderr = c.out, c.out
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := c.cmd.Start(); err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	c.done = make(chan struct{})
	go func() { c.cmd.Wait(); close(c.done) }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		conn, err := pgx.Connect(ctx, c.url("postgres"))
		cancel()
		if err == nil {
			conn.Close(context.Background())
			return nil
		}
		select {
		case <-c.done:
			log, _ := os.ReadFile(c.out.Name())
			return fmt.Errorf("postgres exited at start: %s", log)
		default:
		}
		if time.Now().After(deadline) {
			c.stop()
			return fmt.Errorf("postgres did not accept connections within a minute: %w", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop shuts the server down (fast: open sessions are ended) and removes
// the cluster's directory.
func (c *cluster) stop() {
	if c.cmd != nil && c.cmd.Process != nil {
		c.cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-c.done:
		case <-time.After(30 * time.Second):
			c.cmd.Process.Kill()
			<-c.done
		}
		c.cmd = nil
	}
	if c.out != nil {
		c.out.Close()
	}
	os.RemoveAll(c.dir)
}

// credential is who the server runs as: the postgres OS user when this
// process is root, else this process's user.
func credential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root, the server needs the postgres OS user: %w", err)
	}
	uid, err1 := strconv.Atoi(u.Uid)
	gid, err2 := strconv.Atoi(u.Gid)
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("read the postgres user's ids: %w", err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
