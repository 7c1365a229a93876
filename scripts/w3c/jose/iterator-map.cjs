// mocha --require of scripts/w3c-jose-suite, for Node.js 20: the suite's implementations/index.js calls
// map() on a Map iterator, an iterator helper that Node.js has from version 22. Defines
// Iterator.prototype.map when it is missing; does nothing on Node.js 22 and later.
const IteratorPrototype = Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]()));
if(typeof IteratorPrototype.map !== 'function') {
  Object.defineProperty(IteratorPrototype, 'map', {
    configurable: true,
    writable: true,
    value: function* map(fn) {
      let i = 0;
      for(const value of this) {
        yield fn(value, i++);
      }
    }
  });
}
