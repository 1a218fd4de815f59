'use strict';

// Coverage counts the shipped code only; tests, benches and examples are not product.
module.exports = {
    'coverage-exclude': ['test', 'bench', 'examples', 'node_modules', 'dist', 'bin']
};
