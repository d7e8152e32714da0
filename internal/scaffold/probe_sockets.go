package scaffold

// Finding the ports a process listens on. On Linux the probe reads the
// process's own view of the network: /proc/<pid>/net/tcp and tcp6 list
// every TCP socket of its network namespace, and /proc/<pid>/fd links to
// the inodes of the sockets it holds; a socket in state LISTEN (0A) whose
// inode the process holds is one of its listeners. On other Unix systems
// (macOS) it asks lsof, if installed. Elsewhere (Windows) it cannot list
// them, and tries only the port it offered and the -port it was given.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// listeningAddrs lists the TCP addresses process pid listens on, and how
// it found them ("proc" or "lsof").
func listeningAddrs(pid int) ([]ListenAddr, string, error) {
	if runtime.GOOS == "linux" {
		addrs, err := procListening(fmt.Sprintf("/proc/%d", pid))
		return addrs, "proc", err
	}
	if runtime.GOOS == "windows" {
		return nil, "", errNoSocketList
	}
	lsof, err := exec.LookPath("lsof")
	if err != nil {
		return nil, "", fmt.Errorf("%w (install lsof to let adopt find the port)", errNoSocketList)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	// lsof exits 1 when the process has no matching socket yet.
	out, _ := exec.CommandContext(ctx, lsof, "-nP", "-a", "-p", strconv.Itoa(pid), "-iTCP", "-sTCP:LISTEN", "-Fn").Output()
	return parseLsof(out), "lsof", nil
}

// procListening reads the listening TCP sockets held by the process whose
// /proc folder is dir.
func procListening(dir string) ([]ListenAddr, error) {
	fds, err := os.ReadDir(filepath.Join(dir, "fd"))
	if err != nil {
		return nil, fmt.Errorf("read %s/fd: %w", dir, err)
	}
	inodes := map[string]bool{}
	for _, fd := range fds {
		link, err := os.Readlink(filepath.Join(dir, "fd", fd.Name()))
		if err != nil {
			continue // closed meanwhile
		}
		if ino, ok := strings.CutPrefix(link, "socket:["); ok {
			inodes[strings.TrimSuffix(ino, "]")] = true
		}
	}
	var out []ListenAddr
	for _, f := range []string{"tcp", "tcp6"} {
		b, err := os.ReadFile(filepath.Join(dir, "net", f))
		if err != nil {
			continue // no IPv6
		}
		out = append(out, parseProcNetTCP(b, inodes)...)
	}
	return sortAddrs(out), nil
}

// parseProcNetTCP returns the listening sockets of a /proc/net/tcp or tcp6
// table whose inode is in inodes.
func parseProcNetTCP(table []byte, inodes map[string]bool) []ListenAddr {
	var out []ListenAddr
	sc := bufio.NewScanner(bytes.NewReader(table))
	sc.Scan() // header
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		// sl local_address rem_address st tx:rx tr:tm retrnsmt uid timeout inode
		if len(f) < 10 || f[3] != "0A" || !inodes[f[9]] {
			continue
		}
		host, port, ok := strings.Cut(f[1], ":")
		if !ok {
			continue
		}
		ip, err := procIP(host)
		if err != nil {
			continue
		}
		p, err := strconv.ParseUint(port, 16, 16)
		if err != nil {
			continue
		}
		out = append(out, ListenAddr{IP: ip, Port: int(p)})
	}
	return out
}

// procIP decodes an address of /proc/net/tcp{,6}: 32-bit words in the
// machine's byte order, printed in hex.
func procIP(s string) (net.IP, error) {
	b, err := hex.DecodeString(s)
	if err != nil || (len(b) != 4 && len(b) != 16) {
		return nil, fmt.Errorf("bad address %q", s)
	}
	ip := make(net.IP, len(b))
	for i := 0; i < len(b); i += 4 {
		binary.NativeEndian.PutUint32(ip[i:], binary.BigEndian.Uint32(b[i:]))
	}
	if v4 := ip.To4(); v4 != nil && len(b) == 4 {
		return v4, nil
	}
	return ip, nil
}

// parseLsof reads `lsof -Fn` output: lines "n<host>:<port>".
func parseLsof(out []byte) []ListenAddr {
	var addrs []ListenAddr
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), "n")
		if !ok {
			continue
		}
		i := strings.LastIndex(line, ":")
		if i < 0 {
			continue
		}
		port, err := strconv.Atoi(line[i+1:])
		if err != nil {
			continue
		}
		host := strings.Trim(line[:i], "[]")
		ip := net.ParseIP(host)
		if host == "*" {
			ip = net.IPv4zero
		}
		if ip == nil {
			continue
		}
		addrs = append(addrs, ListenAddr{IP: ip, Port: port})
	}
	return sortAddrs(addrs)
}

func sortAddrs(a []ListenAddr) []ListenAddr {
	slices.SortFunc(a, func(x, y ListenAddr) int {
		if x.Port != y.Port {
			return x.Port - y.Port
		}
		return bytes.Compare(x.IP, y.IP)
	})
	return slices.CompactFunc(a, func(x, y ListenAddr) bool { return x.Port == y.Port && x.IP.Equal(y.IP) })
}
