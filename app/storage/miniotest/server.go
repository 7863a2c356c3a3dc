package miniotest

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/storykeep/storykeep/app/storage"
)

// server is one running minio process and the directory it owns.
type server struct {
	cmd    *exec.Cmd
	dir    string
	log    string
	exited chan struct{}
	cfg    storage.S3Config
}

// startServer launches minio on free loopback ports with random credentials,
// retrying when a port was taken between choosing and binding it.
func startServer(bin string) (*server, error) {
	var lastErr error
	for range 3 {
		srv, err := tryStart(bin)
		if err == nil {
			return srv, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

func tryStart(bin string) (*server, error) {
	apiPort, err := freePort()
	if err != nil {
		return nil, err
	}
	consolePort, err := freePort()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "miniotest-")
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(apiPort)
	s := &server{dir: dir, log: filepath.Join(dir, "minio.log"), exited: make(chan struct{})}
	s.cfg = storage.S3Config{
		Endpoint:  addr,
		Region:    "us-east-1",
		AccessKey: "test" + randHex(8),
		SecretKey: randHex(20),
		PathStyle: true,
	}
	logf, err := os.Create(s.log)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	defer logf.Close()
	s.cmd = exec.Command(bin, "server", filepath.Join(dir, "data"),
		"--address", addr, "--console-address", "127.0.0.1:"+strconv.Itoa(consolePort), "--quiet")
	s.cmd.Env = append(os.Environ(),
		"MINIO_ROOT_USER="+s.cfg.AccessKey,
		"MINIO_ROOT_PASSWORD="+s.cfg.SecretKey,
		"MINIO_CI_CD=1",     // allow a data dir on the root disk
		"MINIO_BROWSER=off", // the console is not needed
		"MINIO_UPDATE=off",  // never try to reach the internet
		"MINIO_REGION=us-east-1",
	)
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	setDeathSignal(s.cmd)
	if err := s.cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	go func() { s.cmd.Wait(); close(s.exited) }()
	if err := waitLive(addr, s.exited, 30*time.Second); err != nil {
		tail := s.logTail()
		s.stop()
		return nil, fmt.Errorf("%w\n%s", err, tail)
	}
	return s, nil
}

// stop asks minio to exit, kills it if it lingers, and removes its data.
func (s *server) stop() {
	s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-s.exited
	}
	os.RemoveAll(s.dir)
}

// logTail returns the end of minio's output for failure messages.
func (s *server) logTail() string {
	f, err := os.Open(s.log)
	if err != nil {
		return ""
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size() > 4096 {
		f.Seek(fi.Size()-4096, io.SeekStart)
	}
	b, _ := io.ReadAll(f)
	return "minio output:\n" + string(b)
}
