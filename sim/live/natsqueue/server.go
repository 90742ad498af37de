package natsqueue

import (
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// readyTimeout bounds how long a starting server may take to accept connections. A busy
// 2-core machine starts one in well under a second; JetStream recovery of a store takes
// longer, so the bound is generous.
const readyTimeout = 20 * time.Second

// ServerConfig describes an embedded NATS server.
type ServerConfig struct {
	// Name is the server's name (required to be unique in a cluster).
	Name string
	// StoreDir holds JetStream's files; a restart on the same directory keeps the streams.
	StoreDir string
	// Port is the client port; 0 picks a free one on first start (kept across restarts).
	Port int
	// Cluster, if set, makes the server one node of a JetStream cluster.
	Cluster *ClusterConfig
}

// ClusterConfig joins an embedded server to a cluster of nodes on loopback.
type ClusterConfig struct {
	Name string
	// Port is this node's route port (0 picks a free one on first start).
	Port int
	// Routes are the other nodes' route URLs (nats://127.0.0.1:PORT).
	Routes []string
}

// Server is an embedded NATS server with JetStream on, bound to loopback only. It can be
// stopped and started again on the same store and ports, which is how live mode restarts
// the queue.
type Server struct {
	cfg ServerConfig
	ns  *server.Server
}

// StartServer starts an embedded server and waits until it accepts connections.
func StartServer(cfg ServerConfig) (*Server, error) {
	if cfg.StoreDir == "" {
		return nil, fmt.Errorf("embedded NATS server: a store directory is required")
	}
	s := &Server{cfg: cfg}
	if err := s.Start(); err != nil {
		return nil, err
	}
	return s, nil
}

// Start starts the server (again). The ports chosen on the first start are reused, so
// clients reconnect to the same URL.
func (s *Server) Start() error {
	if s.ns != nil && s.ns.Running() {
		return nil
	}
	port := s.cfg.Port
	if port == 0 {
		port = server.RANDOM_PORT
	}
	opts := &server.Options{
		ServerName: s.cfg.Name,
		Host:       "127.0.0.1",
		Port:       port,
		JetStream:  true,
		StoreDir:   s.cfg.StoreDir,
		NoLog:      true,
		NoSigs:     true,
		// The HTTP monitor and leafnode ports stay off: nothing but clients and routes.
	}
	if c := s.cfg.Cluster; c != nil {
		cport := c.Port
		if cport == 0 {
			cport = server.RANDOM_PORT
		}
		opts.Cluster = server.ClusterOpts{Name: c.Name, Host: "127.0.0.1", Port: cport}
		opts.Routes = server.RoutesFromStr(strings.Join(c.Routes, ","))
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		return fmt.Errorf("embedded NATS server %s: %w", s.cfg.Name, err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(readyTimeout) {
		ns.Shutdown()
		return fmt.Errorf("embedded NATS server %s: not ready for connections after %s", s.cfg.Name, readyTimeout)
	}
	s.ns = ns
	if a, ok := ns.Addr().(*net.TCPAddr); ok {
		s.cfg.Port = a.Port
	}
	if c := s.cfg.Cluster; c != nil && c.Port == 0 {
		if a := ns.ClusterAddr(); a != nil {
			c.Port = a.Port
		}
	}
	return nil
}

// Stop shuts the server down and waits until it has stopped.
func (s *Server) Stop() {
	if s.ns == nil {
		return
	}
	s.ns.Shutdown()
	s.ns.WaitForShutdown()
}

// Running reports whether the server is up.
func (s *Server) Running() bool { return s.ns != nil && s.ns.Running() }

// URL is the client URL, nats://127.0.0.1:PORT.
func (s *Server) URL() string { return fmt.Sprintf("nats://127.0.0.1:%d", s.cfg.Port) }

// RouteURL is this node's cluster route URL, for the other nodes' Routes.
func (s *Server) RouteURL() string {
	if s.cfg.Cluster == nil {
		return ""
	}
	return fmt.Sprintf("nats://127.0.0.1:%d", s.cfg.Cluster.Port)
}

// RedactURL drops credentials from a NATS URL (or a comma-separated list of them) so
// that errors and logs never print a password.
func RedactURL(raw string) string {
	parts := strings.Split(raw, ",")
	for i, p := range parts {
		u, err := url.Parse(strings.TrimSpace(p))
		if err != nil || u.User == nil {
			continue
		}
		u.User = url.User("REDACTED")
		parts[i] = u.String()
	}
	return strings.Join(parts, ",")
}

// Name is the server's name (a cluster node's, as stream info names its leader).
func (s *Server) Name() string { return s.cfg.Name }
