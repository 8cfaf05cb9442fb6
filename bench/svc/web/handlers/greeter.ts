/**
 * helloworld.Greeter: the repository's demo handler itself, so the web cases
 * measure what a user of the demo would serve ("Hello, <name>!").
 * @module
 */
export { default } from "../../../../handlers/greeter.ts";
