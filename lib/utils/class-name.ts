/** The class a decorator target belongs to (the constructor for static members, the prototype's otherwise). */
export function className(target: object): string {
  return typeof target === 'function' ? target.name : target.constructor.name;
}
