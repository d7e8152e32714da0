package funchost

import (
	"fmt"
	"net/http/httputil"
	"net/url"
)

// ProxyMode selects how requests are forwarded to the handler.
type ProxyMode int

const (
	// YARP is the mcp-custom-handler profile's proxy: the handler sees
	// Host: 127.0.0.1:<port>.
	YARP ProxyMode = iota
	// LegacyForwarding (enableForwardingHttpRequest) keeps the client's Host.
	LegacyForwarding
)

// HostVersion is the X-Azure-Functions-HostVersion this emulation sends.
const HostVersion = "4.1040.100.0"

// NewProxy returns the host's proxy to the handler on 127.0.0.1:port. Each
// request gets a fresh invocation id, which onInvocation (when not nil)
// receives with the request path before the request is forwarded.
// Event streams are flushed as they come, as YARP streams them.
func NewProxy(port int, mode ProxyMode, onInvocation func(id, path string)) *httputil.ReverseProxy {
	target := &url.URL{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", port)}
	return &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.SetXForwarded()
			if mode == YARP {
				r.Out.Host = "" // the request URL's host: 127.0.0.1:<port>
			} else {
				r.Out.Host = r.In.Host
			}
			id := NewID()
			if onInvocation != nil {
				onInvocation(id, r.In.URL.Path)
			}
			r.Out.Header.Set("X-Azure-Functions-HostVersion", HostVersion)
			r.Out.Header.Set("X-Azure-Functions-InvocationId", id)
			r.Out.Header.Set("x-ms-invocation-id", id)
		},
	}
}
