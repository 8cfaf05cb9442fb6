/** The same Echo handler as the default contender serves. @module */
export { default } from "../../default/handlers/echo.ts";
