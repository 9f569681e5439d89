package kimitest

import (
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
)

// Server is an Emulator listening on a loopback (or given) address.
type Server struct {
	URL      string // base URL ending in /v1, e.g. "http://127.0.0.1:41234/v1"
	Key      string // the first account's key (DefaultKey when none was configured)
	Emulator *Emulator

	hts       *httptest.Server // NewServer
	hs        *http.Server     // Start
	closeOnce sync.Once
	serveErr  chan error

	clientOnce sync.Once
	client     *http.Client
}

// TB is the part of testing.TB that NewServer uses. It is an interface of
// its own so that programs using the emulator outside tests (a CLI's
// "serve") do not link package testing.
type TB interface {
	Helper()
	Cleanup(func())
}

// NewServer starts an Emulator on 127.0.0.1 for the duration of a test and
// closes it in t.Cleanup. Pass the test's *testing.T (or B, F).
func NewServer(t TB, opts ...Option) *Server {
	t.Helper()
	e := New(opts...)
	hts := httptest.NewUnstartedServer(e)
	hts.Listener = envelopeListener{hts.Listener}
	configureServer(hts.Config)
	hts.Start()
	s := &Server{URL: hts.URL + "/v1", Key: e.firstKey, Emulator: e, hts: hts}
	t.Cleanup(s.Close)
	return s
}

// Client returns an HTTP client for the server, as httptest.Server.Client
// does: its transport's idle connections are closed with the server.
// Build an API client on it with the server's URL and Key:
//
//	srv := kimitest.NewServer(t)
//	c := kimi.NewClient(kimi.Config{APIKey: srv.Key, BaseURL: srv.URL, HTTPClient: srv.Client()})
func (s *Server) Client() *http.Client {
	s.clientOnce.Do(func() {
		if s.hts != nil {
			s.client = s.hts.Client()
			return
		}
		s.client = &http.Client{Transport: &http.Transport{}}
	})
	return s.client
}

// Start serves an Emulator on addr (e.g. "127.0.0.1:8080"; port 0 picks a
// free one) until Close. It is meant for standalone use such as a CLI
// "serve" command.
func Start(addr string, opts ...Option) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	e := New(opts...)
	hs := &http.Server{Handler: e}
	configureServer(hs)
	s := &Server{URL: "http://" + ln.Addr().String() + "/v1", Key: e.firstKey, Emulator: e, hs: hs, serveErr: make(chan error, 1)}
	go func() {
		err := hs.Serve(envelopeListener{ln})
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		s.serveErr <- err
	}()
	return s, nil
}

// configureServer sets the connection limits of limits.go on hs. The
// body deadline is set per request (guard), not as ReadTimeout, which
// would also cut long streams. The server must listen through an
// envelopeListener, whose connections reword the answers the http.Server
// gives before any handler runs (refusal.go); the ConnState hook tells
// them where a response ends.
func configureServer(hs *http.Server) {
	hs.ReadHeaderTimeout = headerReadTimeout
	hs.IdleTimeout = idleTimeout
	hs.MaxHeaderBytes = maxHeaderBytes
	hs.ConnState = armOnIdle
}

// Close stops the server, cutting open streams (their request contexts
// are cancelled, so generation stops), and removes the emulator's
// temporary file storage (Emulator.Close). It is safe to call more than
// once.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		if s.hts != nil {
			s.hts.CloseClientConnections()
			s.hts.Close()
		}
		if s.hs != nil {
			s.hs.Close()
			<-s.serveErr
			if s.client != nil {
				s.client.CloseIdleConnections()
			}
		}
		s.Emulator.Close()
	})
}
