/**
 * What the per-address password limit counts: one IPv4 address, or one IPv6 /64. An IPv6
 * host is usually given a whole /64 and can pick a new address in it for every guess, so
 * counting single IPv6 addresses would not limit anyone.
 */
import { isIPv4, isIPv6 } from 'node:net';

const internals = {
    mappedIpv4: /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i,
    prefixGroups: 4
};

/** The limiter's subject for a client address: `a.b.c.d`, `x:x:x:x::/64`, or the input unchanged when it is neither. */
export function clientNetwork(address: string): string {

    const mapped = internals.mappedIpv4.exec(address)?.[1];
    if (mapped !== undefined && isIPv4(mapped)) {
        return mapped;
    }

    const bare = address.replace(/%.*$/, '');                       // a zone index (fe80::1%eth0) is local detail
    if (!isIPv6(bare)) {
        return address;
    }

    return `${expand(bare).slice(0, internals.prefixGroups).join(':')}::/64`;
}

/** The eight 16-bit groups of an IPv6 address, lowercase, without leading zeros. */
function expand(address: string): string[] {

    // An embedded IPv4 tail (::1.2.3.4) is the last two groups.
    const tail = /(\d{1,3}(?:\.\d{1,3}){3})$/.exec(address)?.[1];
    let text = address;
    if (tail !== undefined) {
        const octets = tail.split('.').map(Number);
        text = `${address.slice(0, -tail.length)}${((octets[0]! << 8) | octets[1]!).toString(16)}:${((octets[2]! << 8) | octets[3]!).toString(16)}`;
    }

    const [head, rest] = text.split('::') as [string, string | undefined];
    const left = head === '' ? [] : head.split(':');
    const right = rest === undefined || rest === '' ? [] : rest.split(':');
    const groups = rest === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
    return groups.map((group) => Number.parseInt(group, 16).toString(16));
}
