// Command roomkit runs the roomkit signalling server and mints tokens.
//
//	roomkit serve [-addr 127.0.0.1:8080] [-static .] [-app id=secret ...]
//	roomkit token -app id -secret s -user u [-name n] [-room r] [-role host] [-ttl 24h]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"roomkit/server/app"
	"roomkit/server/auth"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "roomkit:", err)
		os.Exit(2)
	}
}

func run(args []string, out io.Writer, getenv func(string) string) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: roomkit serve|token [flags]")
	}
	switch args[0] {
	case "serve":
		return serve(args[1:], out, getenv)
	case "token":
		return token(args[1:], out, getenv)
	}
	return fmt.Errorf("unknown command %q: use serve or token", args[0])
}

func serve(args []string, out io.Writer, getenv func(string) string) error {
	cfg, err := app.ParseFlags(args, getenv)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	srv, err := app.Start(cfg, log)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "roomkit listening on http://%s/\n", srv.Addr())
	if cfg.Dev {
		fmt.Fprintf(out, "dev mode: app ID %s, server secret %s\n", app.DevAppID, cfg.Apps[app.DevAppID])
		fmt.Fprintf(out, "open http://%s/ in two tabs\n", srv.Addr())
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	fmt.Fprintln(out, "shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	return srv.Shutdown(sctx)
}

func token(args []string, out io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	appID := fs.String("app", "", "app ID")
	secret := fs.String("secret", "", "the app's server secret (default: from ROOMKIT_APPS)")
	user := fs.String("user", "", "user ID")
	name := fs.String("name", "", "user name (default: the user ID)")
	room := fs.String("room", "", "admit this room only")
	role := fs.String("role", "participant", "host or participant")
	ttl := fs.Duration("ttl", 24*time.Hour, "lifetime, at most 48h")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *appID == "" || *user == "" {
		return fmt.Errorf("token needs -app and -user")
	}
	if *secret == "" {
		for _, a := range strings.Split(getenv("ROOMKIT_APPS"), ",") {
			if id, s, ok := strings.Cut(strings.TrimSpace(a), "="); ok && id == *appID {
				*secret = s
			}
		}
	}
	if *secret == "" {
		return fmt.Errorf("no secret for app %q: pass -secret or set ROOMKIT_APPS", *appID)
	}
	if *ttl <= 0 || *ttl > auth.MaxLifetime {
		return fmt.Errorf("ttl %s: use more than 0 and at most %s", *ttl, auth.MaxLifetime)
	}
	r, err := auth.ParseRole(*role)
	if err != nil {
		return err
	}
	tok, err := auth.Mint(*secret, auth.Claims{AppID: auth.AppID(*appID), UserID: *user, UserName: *name, Room: *room, Role: r}, time.Now(), *ttl)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, tok)
	return nil
}
