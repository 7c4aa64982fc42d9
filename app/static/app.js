// Progressive enhancement: GOV.UK Frontend components. Pages work without this file.
import { initAll } from "./govuk/govuk-frontend.min.js";

initAll();
