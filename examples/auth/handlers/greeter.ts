// The demo handler (handlers/greeter.ts at the root), served here behind _middleware.ts.
export { default } from "../../../handlers/greeter.ts";
