import * as Lab from '@hapi/lab';
import { expect } from '@hapi/code';

import { orderSrvTargets, selectSrvTarget } from '../../lib/client';

export const lab = Lab.script();
const { describe, it } = lab;

const srv = (target: string, priority: number, weight: number) => ({ priority, weight, port: 8080, target });

/** A random source that returns the given values in turn. */
const sequence = (...values: number[]) => () => values.shift()!;

/** A small deterministic generator (LCG), so distribution checks cannot flake. */
function seeded(seed: number): () => number {

    let state = seed >>> 0;
    return () => {

        state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
        return state / 2 ** 32;
    };
}

describe('selectSrvTarget() (RFC 2782)', () => {

    it('takes the lowest priority whatever the weights', () => {

        const records = [srv('backup', 20, 1000), srv('main', 10, 1), srv('other', 30, 0)];
        for (const value of [0, 0.5, 0.999]) {
            expect(selectSrvTarget(records, () => value).target).to.equal('main');
        }
    });

    it('picks by running weight sums, weight-0 records first, the random number in [0, sum]', () => {

        const records = [srv('a', 10, 60), srv('zero', 10, 0), srv('b', 10, 40)];
        // Order: zero (0), a (60), b (100); number = floor(r × 101).
        expect(selectSrvTarget(records, () => 0).target).to.equal('zero');
        expect(selectSrvTarget(records, () => 1 / 101).target).to.equal('a');
        expect(selectSrvTarget(records, () => 60 / 101).target).to.equal('a');
        expect(selectSrvTarget(records, () => 61 / 101).target).to.equal('b');
        expect(selectSrvTarget(records, () => 0.999999).target).to.equal('b');
    });

    it('spreads load in proportion to weight', () => {

        const records = [srv('a', 10, 75), srv('b', 10, 25)];
        const random = seeded(42);
        let a = 0;
        for (let i = 0; i < 10_000; ++i) {
            a += selectSrvTarget(records, random).target === 'a' ? 1 : 0;
        }

        expect(a).to.be.within(7_300, 7_700);
    });

    it('needs at least one record', () => {

        expect(() => selectSrvTarget([])).to.throw(RangeError);
    });
});

describe('orderSrvTargets()', () => {

    it('orders all targets: priorities ascending, each priority in weighted random order', () => {

        const records = [srv('c', 20, 10), srv('a', 10, 50), srv('b', 10, 50), srv('d', 20, 0)];
        // First pick among {a, b} lands on b (number 51 of 0..100), then a; then d (weight 0, number 0), then c.
        expect(orderSrvTargets(records, sequence(51 / 101, 0, 0, 0)).map((record) => record.target)).to.equal(['b', 'a', 'd', 'c']);
        expect(orderSrvTargets(records, sequence(0, 0, 0.99, 0)).map((record) => record.target)).to.equal(['a', 'b', 'c', 'd']);
        expect(orderSrvTargets([])).to.equal([]);
    });
});
