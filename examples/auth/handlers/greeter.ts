// The greeter example's handler, served here behind _middleware.ts.
export { default } from "../../greeter/handlers/greeter.ts";
