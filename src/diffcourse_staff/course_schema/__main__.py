"""`python -m diffcourse_staff.course_schema OUT`: write the JSON Schema of course.yml."""

from diffcourse_staff.course_schema import main

main()
