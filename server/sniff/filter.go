package sniff

import "golang.org/x/net/bpf"

// filter is the classic BPF program the capture socket runs in the kernel,
// so that only DHCP reaches the process: untagged IPv4, UDP, not a
// non-first fragment, source or destination port 67 or 68 ("udp port 67
// or 68" in tcpdump's words, IPv4 only as DHCPv4 is). It accepts the whole
// frame.
var filter = []bpf.Instruction{
	/* 0 */ bpf.LoadAbsolute{Off: 12, Size: 2}, // EtherType
	/* 1 */ bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: 0x0800, SkipTrue: 12},
	/* 2 */ bpf.LoadAbsolute{Off: 23, Size: 1}, // IP protocol
	/* 3 */ bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: 17, SkipTrue: 10},
	/* 4 */ bpf.LoadAbsolute{Off: 20, Size: 2}, // flags and fragment offset
	/* 5 */ bpf.JumpIf{Cond: bpf.JumpBitsSet, Val: 0x1fff, SkipTrue: 8},
	/* 6 */ bpf.LoadMemShift{Off: 14}, // X = IP header length
	/* 7 */ bpf.LoadIndirect{Off: 14, Size: 2}, // UDP source port
	/* 8 */ bpf.JumpIf{Cond: bpf.JumpEqual, Val: 67, SkipTrue: 4},
	/* 9 */ bpf.JumpIf{Cond: bpf.JumpEqual, Val: 68, SkipTrue: 3},
	/* 10 */ bpf.LoadIndirect{Off: 16, Size: 2}, // UDP destination port
	/* 11 */ bpf.JumpIf{Cond: bpf.JumpEqual, Val: 67, SkipTrue: 1},
	/* 12 */ bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: 68, SkipTrue: 1},
	/* 13 */ bpf.RetConstant{Val: 262144}, // accept
	/* 14 */ bpf.RetConstant{Val: 0}, // drop
}
