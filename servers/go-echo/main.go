// The textbook's echo server on golang.org/x/net/websocket, as a peer for the bench: every
// text message m is answered with "Received:  " + m (two spaces), on / and on /ws. As its
// library does by default, it refuses a handshake without an Origin header (403).
//
// README: build with Debian's toolchain and package, no module download:
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o go-echo main.go
//	./go-echo -addr 127.0.0.1:0
//
// It prints one JSON line once it listens, as wirecost's own servers do,
//
//	{"ready":true,"transport":"websocket","port":54321,"pid":123}
//
// and stops gracefully on SIGTERM and SIGINT (exit code 0).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"golang.org/x/net/websocket"
)

// echoServer is the textbook's handler: receive a message, send it back prefixed.
func echoServer(ws *websocket.Conn) {
	for {
		var msg string
		if err := websocket.Message.Receive(ws, &msg); err != nil {
			return
		}
		if err := websocket.Message.Send(ws, "Received:  "+msg); err != nil {
			return
		}
	}
}

type readyLine struct {
	Ready     bool   `json:"ready"`
	Transport string `json:"transport"`
	Port      int    `json:"port"`
	Pid       int    `json:"pid"`
}

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "address to listen on; port 0 picks a free one")
	flag.Parse()

	// The textbook's handler as it is: like a browser, a client must send an Origin header (any
	// origin that parses as a URL), or the handshake is refused with 403.
	echo := websocket.Handler(echoServer)
	mux := http.NewServeMux()
	mux.Handle("/", echo)
	mux.Handle("/ws", echo)

	listener, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "go-echo: %v\n", err)
		os.Exit(1)
	}
	server := &http.Server{Handler: mux}
	ready, _ := json.Marshal(readyLine{Ready: true, Transport: "websocket", Port: listener.Addr().(*net.TCPAddr).Port, Pid: os.Getpid()})
	fmt.Println(string(ready))

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	stopped := make(chan struct{})
	go func() {
		<-stop
		// Shutdown does not wait for hijacked (WebSocket) connections: they end with the process.
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		server.Shutdown(ctx)
		close(stopped)
	}()
	if err := server.Serve(listener); err != http.ErrServerClosed {
		fmt.Fprintf(os.Stderr, "go-echo: %v\n", err)
		os.Exit(1)
	}
	<-stopped
}
