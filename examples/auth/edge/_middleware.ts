// The greeter's bearer-token check (../handlers/_middleware.ts), guarding the edge too.
export { default } from "../handlers/_middleware.ts";
